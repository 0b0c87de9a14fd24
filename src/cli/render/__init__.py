"""Rich renderables for ``resinspect``, one module per view: they build what to show and
never print (the commands print them).

- :mod:`.table`: safe names and :class:`~.table.KeyedTable`, which never cuts an id;
- :mod:`.top`: a frame of ``top``; :mod:`.suspects`: the grouped leak suspects in it;
  :mod:`.interactive`: the frame of ``top`` in a terminal, with keys;
- :mod:`.replay`: a frame of ``top --replay``; :mod:`.diff`: the report of ``diff``;
- :mod:`.freezes`: ``hangs``, ``dump`` and an application that cannot answer;
- :mod:`.why`, :mod:`.ls`: those commands' tables.

Importing the package loads none of them: each command imports the view it shows.
"""
