from django.tasks import task


@task()
def send_survey(survey_id: int, generation: int) -> str:
    """Runs `delay` after the solve (run_after); every rule is checked again then."""
    from surveys import services

    return services.send(survey_id, generation)
