"""The warehouse on other engines than DuckDB: throwaway servers and the comparison of builds."""
