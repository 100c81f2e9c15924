"""备份与恢复: encrypted backup sets, restore onto a new server, verification by restoring."""
