"""Report centre: monthly and quarterly reports as XLSX, HTML and PDF.

Generated on request or by subscription after each period, then listed and downloaded.
"""
