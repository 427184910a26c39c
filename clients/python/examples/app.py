"""A Flask app whose sessions live in Sessiond: a visit counter, login (which rotates the sid and
sets the session's subject), logout, and "log out my other devices".

From the repository root, with Sessiond running (`scripts/run` in another terminal):

    pip install -e "clients/python[flask]"
    flask --app clients/python/examples/app.py run

then open http://127.0.0.1:5000. Settings: SESSIOND_URL (default http://127.0.0.1:8080),
SESSIOND_API_KEY, and SESSIOND_FAIL_OPEN=1 to keep serving (with empty sessions) while Sessiond
is down. (A real app also needs CSRF protection on its forms; it is left out here.)
"""

import os

from flask import Flask, redirect, render_template_string, request, session, url_for

from sessiond_client.flask import SessiondSessionInterface, logout_everywhere, rotate_session

app = Flask(__name__)
app.session_interface = SessiondSessionInterface(
    os.environ.get("SESSIOND_URL", "http://127.0.0.1:8080"),
    api_key=os.environ.get("SESSIOND_API_KEY"),
    fail_closed=os.environ.get("SESSIOND_FAIL_OPEN") != "1",
)

PAGE = """<!doctype html>
<title>Sessiond example</title>
<h1>Visit {{ visits }}</h1>
{% if session.unavailable %}<p><strong>Sessiond is unavailable: this visit is not remembered.</strong></p>{% endif %}
{% if user %}
  <p>Logged in as <b>{{ user }}</b>{% if session.permanent %} (remembered for 31 days){% endif %}.</p>
  <p>Your sessions: {{ devices|length }}
    {% for d in devices %}<br><code>{{ d.handle[:8] }}</code> since {{ d.created_at.strftime("%Y-%m-%d %H:%M") }} UTC
    {% if d.handle == session.handle %}(this one){% endif %}{% endfor %}</p>
  <form method="post" action="{{ url_for('logout') }}"><button>Log out</button></form>
  <form method="post" action="{{ url_for('logout_others') }}"><button>Log out my other devices</button></form>
{% else %}
  <form method="post" action="{{ url_for('login') }}">
    <input name="user" placeholder="your name" required>
    <label><input type="checkbox" name="remember"> remember me</label>
    <button>Log in</button>
  </form>
{% endif %}
"""


@app.get("/")
def index():
    session["visits"] = session.get("visits", 0) + 1
    user = session.get("user")
    devices = app.session_interface.client.subject_sessions(session.subject) if session.subject else []
    return render_template_string(PAGE, visits=session["visits"], user=user, devices=devices)


@app.post("/login")
def login():
    user = request.form["user"].strip()[:100] or "anonymous"
    session["user"] = user
    session.subject = user  # lists the session under this user, for "log out everywhere"
    session.permanent = "remember" in request.form
    rotate_session()  # a new sid at login: a sid planted before it is worthless
    return redirect(url_for("index"))


@app.post("/logout")
def logout():
    session.clear()  # deleted in Sessiond, cookie removed
    return redirect(url_for("index"))


@app.post("/logout-others")
def logout_others():
    logout_everywhere(keep_current=True)
    return redirect(url_for("index"))
