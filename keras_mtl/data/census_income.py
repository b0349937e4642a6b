"""The UCI Census-Income (KDD) data, as the MMoE and PLE papers use it."""

import os
from typing import Optional
from typing import Union

import numpy as np
import pandas as pd

#: The 42 fields of census-income.data/.test, in file order (names follow the
#: attribute list of census-income.names).
COLUMNS = (
    "age",
    "class_worker",
    "det_ind_code",
    "det_occ_code",
    "education",
    "wage_per_hour",
    "hs_college",
    "marital_stat",
    "major_ind_code",
    "major_occ_code",
    "race",
    "hisp_origin",
    "sex",
    "union_member",
    "unemp_reason",
    "full_or_part_emp",
    "capital_gains",
    "capital_losses",
    "stock_dividends",
    "tax_filer_stat",
    "region_prev_res",
    "state_prev_res",
    "det_hh_fam_stat",
    "det_hh_summ",
    "instance_weight",
    "mig_chg_msa",
    "mig_chg_reg",
    "mig_move_reg",
    "mig_same",
    "mig_prev_sunbelt",
    "num_emp",
    "fam_under_18",
    "country_father",
    "country_mother",
    "country_self",
    "citizenship",
    "own_or_self",
    "vet_question",
    "vet_benefits",
    "weeks_worked",
    "year",
    "income_50k",
)

#: Continuous fields; every other input field is categorical.
NUMERIC_COLUMNS = (
    "age",
    "wage_per_hour",
    "capital_gains",
    "capital_losses",
    "stock_dividends",
    "num_emp",
    "weeks_worked",
)

#: Fields that define the labels (or are sampling weights), never inputs.
LABEL_SOURCE_COLUMNS = ("income_50k", "marital_stat", "education", "instance_weight")

_COLLEGE = (
    "Some college but no degree",
    "Associates degree-occup /vocational",
    "Associates degree-academic program",
    "Bachelors degree(BA AB BS)",
    "Masters degree(MA MS MEng MEd MSW MBA)",
    "Prof school degree (MD DDS DVM LLB JD)",
    "Doctorate degree(PhD EdD)",
)

SAMPLE_DIR = os.path.join(os.path.dirname(__file__), "census_income_kdd")
SAMPLE_FILES = ("census-income.data.sub2000.gz", "census-income.test.sub1000.gz")
FULL_FILES = ("census-income.data.gz", "census-income.test.gz")


def read_census_file(path):
    """One raw UCI file as a DataFrame with `COLUMNS` and label columns.

    Adds `income` (1.0 when income > 50K), `never_married` (1.0 for "Never
    married") and `college` (1.0 for some college or higher). Categorical
    fields are strings ("?" kept as its own value), numeric fields floats.
    """
    df = pd.read_csv(
        path,
        header=None,
        names=list(COLUMNS),
        sep=",",
        skipinitialspace=True,
        dtype=str,
        keep_default_na=False,
    )
    for column in NUMERIC_COLUMNS + ("instance_weight",):
        df[column] = df[column].astype("float32")
    df["income"] = (df["income_50k"].str.strip() == "50000+.").astype("float32")
    df["never_married"] = (df["marital_stat"] == "Never married").astype("float32")
    df["college"] = df["education"].isin(_COLLEGE).astype("float32")
    return df


def load_census_income(
    data_dir: Optional[Union[str, os.PathLike]] = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Returns `(train_df, test_df)` of Census-Income.

    Args:
        data_dir: folder with the full UCI files `census-income.data.gz` and
            `census-income.test.gz` (199,523 / 99,762 rows). None reads the
            2,000 / 1,000-row seeded subsample shipped inside the package.
    """
    if data_dir is None:
        folder, names = SAMPLE_DIR, SAMPLE_FILES
    else:
        folder, names = data_dir, FULL_FILES
    paths = [os.path.join(folder, name) for name in names]
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        raise FileNotFoundError(
            f"expected the Census-Income files {list(names)} in {folder!r}. Missing: {missing}"
        )
    return tuple(read_census_file(p) for p in paths)


def input_columns():
    """The 38 input fields: all but the label-defining ones, in file order."""
    return [c for c in COLUMNS if c not in LABEL_SOURCE_COLUMNS]


def split_validation(test_df, seed=0):
    """Splits the test file 1:1 into (validation, test), as the MMoE paper."""
    order = np.random.RandomState(seed).permutation(len(test_df))
    half = len(test_df) // 2
    return (
        test_df.iloc[order[:half]].reset_index(drop=True),
        test_df.iloc[order[half:]].reset_index(drop=True),
    )
