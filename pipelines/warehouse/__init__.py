"""The warehouse file: where it is (`path`, checked before anything is written) and who
writes it (`lock`: one writer at a time)."""
