"""``resinspect view``: the inspector panel in a window of its own (the one command that
loads Qt), fed by a live application or by a recording."""

from __future__ import annotations

from pathlib import Path

import click

from cli.options import Seconds, target_options


@click.command()
@target_options
@click.argument("recording", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--interval", type=Seconds(min=0.05), default=1.0, show_default=True,
              help="Seconds between updates from a live application.")
@click.option("--speed", type=Seconds(min=0.01, max=1000.0), default=1.0, show_default=True,
              help="Playback speed of a recording.")
@click.option("--seconds", type=Seconds(min=0.1), default=None, hidden=True,
              help="Close after this long (scripted runs).")
@click.option("--screenshot", type=click.Path(dir_okay=False, path_type=Path), default=None,
              hidden=True, help="Save a picture of the window before closing (with --seconds).")
def view(pid: int | None, socket: Path | None, recording: Path | None, interval: float,
         speed: float, seconds: float | None, screenshot: Path | None) -> None:
    """Open the panel on a live application (--pid, --socket, or the only one) or a RECORDING."""
    from inspector.errors import BadInput
    from inspector.sources import RecordingSource, RemoteSource

    if recording is not None and (pid is not None or socket is not None):
        raise click.UsageError("give a RECORDING or --pid/--socket, not both")
    if recording is not None:
        from inspector.fleet.recording import read_recording

        frames = read_recording(recording)  # a killed recorder's cut-off last line is fine
        if not frames:
            raise BadInput(f"{recording}: no snapshots in it")
        source: RecordingSource | RemoteSource = RecordingSource(frames, speed=speed)
        title = f"resinspect view: {recording.name} ({frames[-1].app}, pid {frames[-1].pid})"
    else:
        from cli.options import resolve_target

        path = resolve_target(pid, socket)
        source = RemoteSource(path, interval=interval)
        title = f"resinspect view: {source.app} ({path.stem})"
    from inspector.ui.window import open_viewer

    try:
        open_viewer(source, title, seconds=seconds, screenshot=screenshot)
    finally:
        source.close()
