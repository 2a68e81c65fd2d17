{# Milliseconds since the Unix epoch, OCSF's timestamp_t, of a UTC timestamp. #}
{% macro epoch_ms(column) %}{{ return(adapter.dispatch('epoch_ms', 'canary')(column)) }}{% endmacro %}

{% macro default__epoch_ms(column) -%}
    cast(round(extract(epoch from {{ column }}) * 1000) as bigint)
{%- endmacro %}

{% macro duckdb__epoch_ms(column) -%}
    epoch_ms({{ column }})
{%- endmacro %}


{# Whole seconds from one timestamp to a later one. #}
{% macro seconds_between(earlier, later) -%}
    {{ dbt.datediff(earlier, later, 'second') }}
{%- endmacro %}


{# The time the models are built, as a UTC timestamp without a time zone, like the loaded ones. #}
{% macro utc_now() %}{{ return(adapter.dispatch('utc_now', 'canary')()) }}{% endmacro %}

{% macro default__utc_now() -%}
    cast(now() at time zone 'UTC' as timestamp)
{%- endmacro %}

{% macro duckdb__utc_now() -%}
    cast(timezone('UTC', current_timestamp) as timestamp)
{%- endmacro %}


{#
  A loaded instant as a UTC timestamp without a time zone. target-duckdb loads naive UTC
  timestamps; target-postgres may load `timestamp with time zone`.
#}
{% macro utc_timestamp(column) %}{{ return(adapter.dispatch('utc_timestamp', 'canary')(column)) }}{% endmacro %}

{% macro default__utc_timestamp(column) -%}
    cast({{ column }} as timestamp)
{%- endmacro %}
