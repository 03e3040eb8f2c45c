with

source as (

    select * from {{ source_or_empty('jira', 'issues', child='changelog') }}

),

latest_issue as (

    -- Each issue's latest version (staging deduplicates): only its children are current.
    select dlt_id from {{ ref('stg_jira__issues') }}

),

latest as (

    select source.*
    from source
    -- Nested one level, so the parent row is the issue's (dlt writes _dlt_root_id only
    -- where it merges, not into the lake's Parquet).
    inner join latest_issue
        on source._dlt_parent_id = latest_issue.dlt_id

),

renamed as (

    select

        ----------  ids
        {{ dbt.concat([
            dbt.safe_cast('history_id', dbt.type_string()), "'-'",
            dbt.safe_cast('_dlt_list_idx', dbt.type_string())
        ]) }} as changelog_item_id,
        cast(history_id as {{ dbt.type_bigint() }}) as history_id,
        cast(issue_id as {{ dbt.type_bigint() }}) as issue_id,
        cast(issue_key as {{ dbt.type_string() }}) as issue_key,
        cast(author_account_id as {{ dbt.type_string() }}) as author_account_id,

        ---------- the changed field
        cast(field as {{ dbt.type_string() }}) as field_name,
        cast(field_id as {{ dbt.type_string() }}) as field_id,
        cast(fieldtype as {{ dbt.type_string() }}) as field_type,
        -- For a status change, the values are status ids and the strings their names.
        cast(from_value as {{ dbt.type_string() }}) as from_value,
        cast(from_string as {{ dbt.type_string() }}) as from_string,
        cast(to_value as {{ dbt.type_string() }}) as to_value,
        cast(to_string as {{ dbt.type_string() }}) as to_string,

        ---------- numerics
        cast(_dlt_list_idx as {{ dbt.type_int() }}) as item_position,

        ---------- timestamps (UTC)
        {{ utc_timestamp('created') }} as created_at

    from latest

)

select * from renamed
