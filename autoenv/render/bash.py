from autoenv.render.posix import PosixShell


class Renderer(PosixShell):
    name = "bash"
    asks_server_at_prompt = True
    snippet_suffix = "bash"
