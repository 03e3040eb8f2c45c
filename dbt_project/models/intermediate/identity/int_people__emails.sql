{#- The people seed's work emails, one row per address (lower-cased, trimmed): what email
    identity resolution matches against (docs/metrics.md section 1). An address listed for two
    people resolves to one of them, deterministically (the smaller person_id). -#}
with

people as (

    select * from {{ ref('int_people') }}

),

listed as (

    select
        person_id,
        lower(trim(email)) as email
    from (
        select
            person_id,
            {{ split_unnested('emails', "';'") }} as email
        from people
        where emails is not null
    ) as split_emails

),

final as (

    select
        email,
        min(person_id) as person_id
    from listed
    where email <> ''
    group by email

)

select * from final
