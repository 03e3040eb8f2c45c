"""Transform: the dbt project run in-process (`dbt_runner`), the organisation's seeds it reads
(`org_seeds`) and the metric parameters it declares (`parameters`)."""
