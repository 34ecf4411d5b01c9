"""The Proxmox compute VMs the stack creates, and the gate that says when Docker on each answers.

May import from `components.platform` only.
"""
