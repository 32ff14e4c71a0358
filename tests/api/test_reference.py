"""The OpenAPI document and the reference page rendered from it, in both languages."""


def test_openapi_document_describes_every_endpoint_and_error(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operations = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "post")
    }
    assert {
        ("GET", "/api/v1/drafts"),
        ("GET", "/api/v1/drafts/{slug}"),
        ("GET", "/api/v1/drafts/{slug}/stats"),
        ("POST", "/api/v1/drafts/{slug}/comments"),
        ("GET", "/api/v1/receipts/{code}"),
        ("GET", "/api/v1/assignments"),
        ("GET", "/api/v1/submissions"),
        ("POST", "/api/v1/submissions"),
        ("GET", "/api/v1/submissions/{submission_id}"),
        ("GET", "/api/v1/search"),
        ("GET", "/api/v1/search/export"),
    } <= operations
    problem = document["components"]["responses"]["NOT_FOUND"]["content"]
    assert set(problem) == {"application/problem+json"}
    comment = document["paths"]["/api/v1/drafts/{slug}/comments"]["post"]
    assert {"201", "200", "403", "422", "429"} <= set(comment["responses"])
    request = document["components"]["schemas"]["CommentRequest"]["properties"]
    for name in ("body", "article", "stance", "identity", "name", "contact", "district", "consent"):
        assert name in request
    draft = document["components"]["schemas"]["Draft"]["properties"]
    assert draft["status"]["enum"] == ["draft", "consulting", "closed", "archived"]


def test_reference_page_in_both_languages(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "接口说明" in page and "POST /api/v1/submissions" in page
    assert 'id="problems"' in page and "window_closed" in page
    english = client.get("/api/v1/docs?lang=en").get_data(as_text=True)
    assert "API reference" in english and "Token required" in english


def test_the_api_never_sets_a_session_cookie(client):
    response = client.get("/api/v1/drafts?lang=en")
    assert "Set-Cookie" not in response.headers
    # and does not follow the site's language choice: Accept-Language decides
    client.get("/language/en")
    problem = client.get("/api/v1/drafts/nothing").get_json()
    assert problem["title"] == "没有找到"
    english = client.get("/api/v1/drafts/nothing", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert english.get_json()["title"] == "Not found"
