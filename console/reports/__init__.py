"""Report centre: monthly and quarterly reports as XLSX, HTML and PDF."""
