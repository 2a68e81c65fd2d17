"""The test kit: what the tests and the benchmark share to stand in for a console and to run
the tap.

- `testkit.console`: `ScriptedConsole`, the one loopback server for what the console simulator
  (`canary_simulator`, the fake console everything else uses) cannot do: scripted answers, a
  proxy in front of a simulator, HTTPS with an untrusted certificate, a record of requests and
  connections.
- `testkit.tap`: the tap run as a process (or in-process) and its Singer output read back;
  kills, signals and slow readers at chosen points.
- `testkit.process`: one child process measured, wall and CPU time and peak memory, for the
  tap's runs and the benchmark alike.
- `testkit/tap_site/`: the start-up code of every tap process the tests run (network guard,
  frozen clock).

It is importable wherever the checkout is installed (`pip install -e .` puts the checkout on
the path), by pytest and by the benchmark's scripts, and is not part of the published package.
"""
