import httpx


def test_sandbox_runs_as_its_own_process_and_answers_health(sandbox_url):
    response = httpx.get(f"{sandbox_url}/health")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
