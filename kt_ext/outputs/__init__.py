"""Outputs: every file a run writes, and the views that read them back.

* :mod:`kt_ext.outputs.files`: every run-directory file name (the one owner);
* :mod:`kt_ext.outputs.results`: trial rows, tables, atomic text/JSON/YAML writes;
* :mod:`kt_ext.outputs.writers`: the run's tables, winner, summary and strategy outputs;
* :mod:`kt_ext.outputs.state`: crash-safe KerasTuner state and model files;
* :mod:`kt_ext.outputs.board` and :mod:`kt_ext.outputs.curves`: TensorBoard;
* :mod:`kt_ext.outputs.report`: the PNG report; :mod:`kt_ext.outputs.serve`: TensorBoard's server.
"""
