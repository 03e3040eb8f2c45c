{#- One row per UTC day: the time spine MetricFlow joins metrics to (metric_time, and the
    month, quarter and year it rolls days up to). It spans every day an organisation's records
    can fall on, from well before the first vendor report to well after as-of. -#}
with

days as (

    {{ dbt.date_spine('day', "cast('2015-01-01' as date)", "cast('2041-01-01' as date)") }}

),

final as (

    select cast(date_day as date) as date_day
    from days

)

select * from final
