"""The watch runner (``sohoa watch``): inboxes → claims → the document job → done/failed, with its journal."""
