"""Hostile data files: shape, encodings, non-finite numbers, values the constraints refuse."""

from __future__ import annotations

from tests.hostile._case import CHECK, DEMO_YAML, DESCRIBE, Case, _api, _case, _train


def _csv_cases() -> list[Case]:
    cases: list[Case] = []
    c = "{d}/csv/"
    err = "error"
    demo = str(DEMO_YAML)
    line = (("line", "row"),)
    shape = (
        ("extra_fields_line10.csv", (*line, ("10", "9"))),
        ("missing_fields_line12.csv", (*line, ("12", "11"))),
        ("unbalanced_quote_line5.csv", (("quote", '"'),)),
    )
    for f, mentions in shape:
        cases.append(
            _case(f"describe:{f}", "csv-shape", err, (*DESCRIBE, c + f), mentions=(f, *mentions))
        )
        cases.append(
            _case(
                f"check-data:{f}",
                "csv-shape",
                err,
                (*CHECK, demo, "--data", c + f),
                mentions=(f, *mentions),
            )
        )
        cases.append(
            _case(
                f"train:{f}",
                "csv-shape",
                err,
                _train(c + f, demo, f"{{d}}/out/t_{f}"),
                mentions=(f, *mentions),
                absent=(f"out/t_{f}",),
            )
        )
        cases.append(
            _api(
                f"read_table:{f}",
                "csv-shape",
                err,
                ("read_table", "csv/" + f),
                mentions=(f, *mentions),
            )
        )
    for f in ("header_only.csv", "only_newlines.csv"):
        cases.append(_case(f"describe:{f}", "csv-shape", "any", (*DESCRIBE, c + f), mentions=(f,)))
        cases.append(_case(f"check-data:{f}", "csv-shape", "any", (*CHECK, demo, "--data", c + f)))
        cases.append(
            _case(
                f"train:{f}",
                "csv-shape",
                err,
                _train(c + f, demo, f"{{d}}/out/t_{f}"),
                mentions=(f,),
                absent=(f"out/t_{f}",),
            )
        )
    cases.append(
        _case(
            "describe:empty.csv",
            "csv-shape",
            err,
            (*DESCRIBE, c + "empty.csv"),
            mentions=("empty.csv",),
        )
    )
    cases.append(
        _case(
            "train:empty.csv",
            "csv-shape",
            err,
            _train(c + "empty.csv", demo, "{d}/out/t_empty"),
            mentions=("empty.csv",),
        )
    )
    for f in (
        "duplicate_columns.csv",
        "wide_20000_columns.csv",
        "long_field_5mb.csv",
        "nul_bytes.csv",
        "latin1.csv",
        "utf16.csv",
    ):
        cases.append(_case(f"describe:{f}", "csv-shape", "any", (*DESCRIBE, c + f), mentions=(f,)))
    cases.append(
        _case(
            "train:duplicate_columns.csv",
            "csv-shape",
            err,
            _train(c + "duplicate_columns.csv", demo, "{d}/out/t_dup"),
            mentions=("age",),
        )
    )
    for f in ("garbage.parquet", "text.parquet", "clients.xlsx"):
        cases.append(_case(f"describe:{f}", "csv-shape", err, (*DESCRIBE, c + f), mentions=(f,)))
    for f in ("pickle.pkl", "pickle.parquet", "pickle.csv"):
        cases.append(
            _case(
                f"describe:{f}",
                "code-exec",
                err,
                (*DESCRIBE, c + f),
                mentions=(f,),
                absent=("PWNED_PICKLE",),
            )
        )
    cases.append(
        _api(
            "read_table:pickle.parquet",
            "code-exec",
            err,
            ("read_table", "csv/pickle.parquet"),
            mentions=("pickle.parquet",),
            absent=("PWNED_PICKLE",),
        )
    )
    # non-finite numbers: refused by check exactly as by train, naming the feature (and row)
    for f in ("inf_income.csv", "neg_inf_income.csv", "infinity_word.csv"):
        cases.append(
            _case(
                f"check-data:{f}",
                "non-finite",
                err,
                (*CHECK, demo, "--data", c + f),
                mentions=("monthly_income",),
            )
        )
        cases.append(
            _case(
                f"train:{f}",
                "non-finite",
                err,
                _train(c + f, demo, f"{{d}}/out/t_{f}"),
                mentions=("monthly_income",),
                absent=(f"out/t_{f}",),
            )
        )
    cases.append(
        _case(
            "check-data:inf_age.csv",
            "non-finite",
            err,
            (*CHECK, demo, "--data", c + "inf_age.csv"),
            mentions=("age",),
        )
    )
    cases.append(
        _case(
            "train:inf_age.csv",
            "non-finite",
            err,
            _train(c + "inf_age.csv", demo, "{d}/out/t_inf_age"),
            mentions=("age",),
        )
    )
    cases.append(
        _api(
            "load_constraints_data:inf_income.csv",
            "non-finite",
            err,
            ("load_constraints_data", str(DEMO_YAML), "csv/inf_income.csv"),
            mentions=("monthly_income",),
        )
    )
    # 1e308 is finite (check and train may accept it or refuse it, naming the feature)
    for f, feature in (
        ("huge_1e308.csv", "monthly_income"),
        ("huge_1e308_all.csv", "monthly_income"),
        ("nan_transfer.csv", "monthly_savings_transfer"),
    ):
        named = (feature,)
        cases.append(
            _case(
                f"check-data:{f}",
                "non-finite",
                "any",
                (*CHECK, demo, "--data", c + f),
                mentions=named,
            )
        )
        cases.append(
            _case(
                f"train:{f}",
                "non-finite",
                "any",
                _train(c + f, demo, f"{{d}}/out/t_{f}"),
                mentions=named,
            )
        )
    cases.append(
        _case("describe:inf_income.csv", "non-finite", "any", (*DESCRIBE, c + "inf_income.csv"))
    )
    # domain checks of the constraint file applied to the data
    bounded = "{d}/yaml/demo_bounded_age.yaml"
    cases.append(
        _case(
            "check-data:ages-bounded",
            "domain",
            err,
            (*CHECK, bounded, "--data", c + "ages_out_of_range.csv"),
            mentions=("age", ("-1000", "250")),
        )
    )
    cases.append(
        _case(
            "check-data:ages-tiny-bounded",
            "domain",
            err,
            (*CHECK, "{d}/yaml/tiny_bounded_age.yaml", "--data", c + "ages_out_of_range.csv"),
            mentions=("age",),
        )
    )
    cases.append(
        _case(
            "train:ages-bounded",
            "domain",
            err,
            _train(c + "ages_out_of_range.csv", bounded, "{d}/out/t_ages"),
            mentions=("age",),
            absent=("out/t_ages",),
        )
    )
    cases.append(
        _case(
            "check-data:ages-unbounded-warns",
            "domain",
            "ok",
            (*CHECK, demo, "--data", c + "ages_out_of_range.csv"),
            contains=("warning", "age"),
        )
    )
    for f, feature in (
        ("region_unknown.csv", "region"),
        ("binary_seven.csv", "salary_domiciled"),
        ("debt_ratio_5.csv", "debt_ratio"),
        ("children_negative.csv", "children"),
    ):
        cases.append(
            _case(
                f"check-data:{f}",
                "domain",
                err,
                (*CHECK, demo, "--data", c + f),
                mentions=(feature,),
            )
        )
    cases.append(
        _case(
            "train:debt_ratio_5.csv",
            "domain",
            err,
            _train(c + "debt_ratio_5.csv", demo, "{d}/out/t_debt"),
            mentions=("debt_ratio",),
        )
    )
    return cases
