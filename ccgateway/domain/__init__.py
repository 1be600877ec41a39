"""The pure core: calls, agents, skills, queues and routing.

Nothing in this package does I/O, reads a clock or imports a framework. Functions take the
current state, an event and `now` (epoch seconds) and return commands for the shell to run,
so the same code runs live, in tests and in simulations on a virtual clock.
"""
