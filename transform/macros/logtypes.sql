{#
  Whether a logtype category is the console reporting on itself (a bird disconnected or came
  back, a setting changed) rather than someone touching a bird or a token.
#}
{% macro is_operational(category) -%}
    coalesce({{ category }} = 'Operational', false)
{%- endmacro %}
