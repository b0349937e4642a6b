"""DataFrames and files (TFRecord, Parquet, CSV) to tf.data, and the data sets the package ships."""

from keras_mtl.data.census_income import load_census_income
from keras_mtl.data.check_tfrecords import CorruptRecordError
from keras_mtl.data.check_tfrecords import check_tfrecords
from keras_mtl.data.correlated_tasks import make_correlated_tasks
from keras_mtl.data.csv_dataset import csv_dataset
from keras_mtl.data.data_source import DataSource
from keras_mtl.data.dataframe import df_to_dataset
from keras_mtl.data.dataframe import features_to_arrays
from keras_mtl.data.dataframe import labels_to_arrays
from keras_mtl.data.domain_batches import domain_balanced_dataset
from keras_mtl.data.multi_domain import make_multi_domain
from keras_mtl.data.parquet_dataset import parquet_dataset
from keras_mtl.data.parse_examples import parse_examples
from keras_mtl.data.parse_spec import parse_spec
from keras_mtl.data.synthetic import funnel_data
from keras_mtl.data.synthetic import funnel_features
from keras_mtl.data.tfrecord_dataset import tfrecord_dataset
from keras_mtl.data.write_tfrecords import write_tfrecords
from keras_mtl.features.chunk_source import register_file_source

# `keras_mtl.features.adapt(features, "train-*.parquet")` reads the files as
# `DataSource(pattern)`: keras_mtl.features never imports keras_mtl.data.
register_file_source(DataSource)

__all__ = [
    "CorruptRecordError",
    "DataSource",
    "check_tfrecords",
    "csv_dataset",
    "df_to_dataset",
    "domain_balanced_dataset",
    "features_to_arrays",
    "funnel_data",
    "funnel_features",
    "labels_to_arrays",
    "load_census_income",
    "make_correlated_tasks",
    "make_multi_domain",
    "parquet_dataset",
    "parse_examples",
    "parse_spec",
    "tfrecord_dataset",
    "write_tfrecords",
]
