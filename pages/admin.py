"""Admin: users and their roles, and the audit trail of saved scenarios (admins only)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from optimiser import auth
from pages import common

common.page_guard()  # before anything else: the page runs only inside app.py

st.title("Admin")
if not common.permit("manage_users"):  # the page is only listed for admins; this is the check
    st.stop()

path = auth.users_path()
try:
    users = auth.load_users(path)
except auth.AuthError as err:
    common.show_error(err)
    st.stop()

st.subheader("Users")
st.dataframe(
    pd.DataFrame(
        [
            {
                "name": u.name,
                "role": u.role,
                "email": u.email,
                "login": "password" if u.password_hash else "organisation (OIDC) only",
                "added (UTC)": u.created[:16].replace("T", " "),
            }
            for u in users.values()
        ],
        columns=["name", "role", "email", "login", "added (UTC)"],
    ),
    hide_index=True,
    width="stretch",
)
st.caption(
    f"Kept in {path}. On the server the same is done with `python -m optimiser users` "
    "(see docs/deployment.md). Viewers read results and board packs; officers also run, save and "
    "export; admins also manage users and delete saved scenarios."
)

with st.form("admin_add", clear_on_submit=True):
    st.markdown("**Add a user**")
    a1, a2, a3 = st.columns(3)
    new_name = a1.text_input("User name", key="admin_add_name")
    new_role = a2.selectbox("Role", auth.ROLES, key="admin_add_role")
    new_email = a3.text_input("E-mail (for the organisation's login)", key="admin_add_email")
    p1, p2 = st.columns(2)
    new_password = p1.text_input(
        "Password (blank: organisation login only)", type="password", key="admin_add_password"
    )
    new_again = p2.text_input("Password again", type="password", key="admin_add_again")
    add_pressed = st.form_submit_button("Add user")
if add_pressed:
    common.change_users(
        lambda: auth.add_user(path, new_name, role=new_role, password=new_password or None, email=new_email),
        confirm=(new_password, new_again),
        done="Added {name} ({role}).",
    )

if users:
    names = sorted(users)
    with st.form("admin_role"):
        st.markdown("**Change a role, or remove a user**")
        r1, r2 = st.columns(2)
        who = r1.selectbox("User", names, key="admin_role_user")
        role = r2.selectbox("New role", auth.ROLES, key="admin_role_role")
        b1, b2 = st.columns(2)
        role_pressed = b1.form_submit_button("Change role")
        remove_pressed = b2.form_submit_button("Remove user")
    if role_pressed:
        common.change_users(lambda: auth.set_role(path, who, role), done="{name} is now {role}.")
    if remove_pressed:
        common.change_users(lambda: auth.remove_user(path, who), done="Removed {name}.")

    with st.form("admin_password", clear_on_submit=True):
        st.markdown("**Set a new password**")
        w1, w2, w3 = st.columns(3)
        pw_user = w1.selectbox("User", names, key="admin_pw_user")
        pw_new = w2.text_input("New password", type="password", key="admin_pw_new")
        pw_again = w3.text_input("Again", type="password", key="admin_pw_again")
        pw_pressed = st.form_submit_button("Set password")
    if pw_pressed:
        common.change_users(
            lambda: auth.set_password(path, pw_user, pw_new),
            confirm=(pw_new, pw_again),
            done="New password set for {name}.",
        )

st.subheader("Audit trail")
if common.allowed("view_audit"):
    events = common.audit_trail()
    if not events:
        st.caption("Nothing saved or deleted yet.")
    else:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "when (UTC)": e.at.replace("T", " ")[:19],
                        "user": e.user,
                        "action": e.action,
                        "scenario": e.name,
                        "place": e.place,
                        "run": e.run_id,
                        "detail": e.detail,
                    }
                    for e in events
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    st.caption(
        "Every save and deletion of a saved scenario, newest first: who, when, and who ran and saved it. "
        "Deleted scenarios' data is removed; their rows here stay."
    )
