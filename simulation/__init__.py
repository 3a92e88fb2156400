"""Simulation and backtest: playbooks run over a timeline on a time-skipping server, and two versions compared."""
