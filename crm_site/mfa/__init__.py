"""Two-step verification (TOTP) and step-up for sensitive actions.

Who: branch heads, head office and superusers confirm every sign-in with a code from an
authenticator app (RFC 6238 TOTP, via django-otp); anyone who has enrolled an authenticator
does too. What: revealing a masked value, deciding an approval and every admin page need a
code entered within the last `MFA_STEP_UP_SECONDS` (step-up), for every user; a user without
an authenticator is asked to enrol one first. A code is accepted once only.
"""
