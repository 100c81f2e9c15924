"""流程配置: business and workflow definitions, versions, inheritance, BPMN."""
