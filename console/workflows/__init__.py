"""流程配置: business and workflow definitions, versions, inheritance, BPMN, promised limits.

Tables in ``models``; bodies and their checks in ``schema``, ``rules``, ``diffing``,
``guide`` and ``bpmn``; lookups in ``store``; the promised time limits in ``limits``.
Services: ``service`` (resolving, checking, reading, serving), ``draft_service``,
``publish_service``, ``inheritance_service``, ``editor_service``. Screens: the list
(``state``, ``pages``) and the editor (``editor_state`` with its ``designer_state``,
``business_state`` and ``version_state`` parts; ``components`` with the matching
``*_components``; the canvas in ``flow_designer`` and ``flow_designer.jsx``).
"""
