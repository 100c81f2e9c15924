"""Supervision statistics from the log lake's daily rollups, and the dashboards over them.

概览, 统计分析 (with saved views), 办理时效, 共享接口监测 and 机构通道统计; the stats API and the
report centre use the same services.
"""
