from autoenv.render.posix import PosixShell


class Renderer(PosixShell):
    name = "bash"
    snippet_suffix = "bash"
