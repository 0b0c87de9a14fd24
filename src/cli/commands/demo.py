"""``resinspect demo``: the sample application with the inspector docked, or its headless tour."""

from __future__ import annotations

from pathlib import Path

import click

from cli.options import Seconds


@click.command()
@click.option("--headless", is_flag=True,
              help="Run offscreen through a scripted tour, print a top frame and exit "
                   "(the default without a display).")
@click.option("--seconds", type=Seconds(min=1.0, max=366 * 86_400.0), default=None,
              help="Length of the scripted tour (headless default: 8). With a display, runs "
                   "the tour on screen and quits.")
@click.option("--screenshots", "screenshots", type=click.Path(file_okay=False, path_type=Path),
              default=None,
              help="Directory for the tour's screenshots (default: ~/.cache/resinspect/demo, "
                   "overwritten each run).")
def demo(headless: bool, seconds: float | None, screenshots: Path | None) -> int:
    """A forensic evidence workbench of tabs, controllers and coordinators, with the inspector
    docked.

    Its Debug menu plants the leaks the inspector finds: an orphaned worker, a cache that
    grows without bound, a blocked GUI thread, a failing cleanup, a retained thumbnail.
    """
    # The package, not its modules: it imports the Qt application only when main() runs.
    from cli.console import make_console
    from cli.render.top import plain_width, render_top
    from inspector import demo as demo_app
    from inspector.demo.screenshots import TopRenderer

    # The demo prints and pictures a `top` frame of itself: the renderers are the command
    # line's, handed down (the demo sits below the CLI and never imports it).
    top = TopRenderer(frame=render_top, plain_width=plain_width, console=make_console)
    return demo_app.main(headless=headless, seconds=seconds, screenshots=screenshots, top=top)
