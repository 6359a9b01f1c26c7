"""Imported once inside the multiprocessing forkserver (its preload list): the forkserver dies with us.

Why a module: the forkserver runs no code of ours except the modules it is told to preload, so this
import is the one place to make it follow its parent (``sohoa.common.lifeline``). Page workers, forked
from it, then follow the forkserver (``executor._init_worker``), and their OCR helpers follow them.
"""

from sohoa.common.lifeline import die_with_parent

die_with_parent()
