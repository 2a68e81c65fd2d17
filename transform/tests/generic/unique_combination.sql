{#
  No two rows share the same values of `columns`: the key of a table whose key has several
  columns (every key starts with `console`).
#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as rows_with_key
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
