{#
  dbt's `relationships` for keys that start with `console`: every value of `column_name` is a
  `field` of `to` in the same console. A value of another console does not count.
#}
{% test relationships_within_console(model, column_name, to, field) %}
select child.console, child.{{ column_name }}
from {{ model }} as child
left join {{ to }} as parent
    on parent.console = child.console and parent.{{ field }} = child.{{ column_name }}
where child.{{ column_name }} is not null and parent.{{ field }} is null
{% endtest %}
