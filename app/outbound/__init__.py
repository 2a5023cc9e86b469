"""Outbound in the WMS (issue 9): which orders the WMS picks and packs itself (`routing`), and,
later, allocation, picking and packing. Each use case is a plain function that pages, the API
and jobs call; jobs are enqueued by name through app.tasks (app/ never imports jobs/)."""
