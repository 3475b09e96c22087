from autoenv.render.posix import PosixShell


class Renderer(PosixShell):
    name = "bash"
    asks_server_at_prompt = True
    snippet_suffix = "bash"
    # One `test` over all directories costs bash half what a loop does (zsh's loop is as quick).
    tests_mtimes_at_once = True
