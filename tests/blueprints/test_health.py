def test_healthz_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"


def test_healthz_answers_503_when_the_database_does_not(app, client, tmp_path):
    from sqlalchemy.orm import sessionmaker

    from renkei.db import make_engine

    broken = make_engine(f"sqlite:///{tmp_path}/missing-dir/none.sqlite3")
    app.extensions["renkei.sessionmaker"] = sessionmaker(bind=broken)
    response = client.get("/healthz")
    assert response.status_code == 503
