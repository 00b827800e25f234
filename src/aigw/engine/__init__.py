"""The deploy engine: desired state, the pure plan, observe, apply, workflows (deploy, destroy,
rotate), preflight and doctor checks, locks, and the local cloud as aigw runs it."""
