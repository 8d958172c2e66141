"""``python -m iterable_emulator``: what ``testing.EmulatorProcess`` starts."""

from iterable_emulator.cli import main

main()
