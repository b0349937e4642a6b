"""DataFrames to tf.data, and the data sets shipped with the package."""

from keras_mtl.data.census_income import load_census_income
from keras_mtl.data.dataframe import df_to_dataset
from keras_mtl.data.dataframe import features_to_arrays
from keras_mtl.data.dataframe import labels_to_arrays

__all__ = [
    "df_to_dataset",
    "features_to_arrays",
    "labels_to_arrays",
    "load_census_income",
]
