"""The report page: charts of the dbt models' tables, as one self-contained HTML file."""
