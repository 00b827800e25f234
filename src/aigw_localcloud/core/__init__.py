"""The local cloud's machinery, shared by every plane: the engine (dispatch, operations,
common ARM checks), HTTP values and the listener, state, journal, faults, TLS, the directory's
RBAC, credentials and the endpoint file. Imports nothing of arm/, vault/, apps/, openai/."""
