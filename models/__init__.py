"""Model builders for kt-ext.

A builder takes the active hyperparameter values of one trial plus what the
data dictates and returns a compiled Keras model::

    build(values, *, input_shape, num_classes, metrics, decay_steps) -> keras.Model

``values`` holds exactly the entries the model's YAML space declares (inactive
conditional entries are absent), so every default lives in the YAML. Builders
are named by ``_target_`` in ``conf/model/*.yaml``; this package stays free of
TensorFlow imports so configs validate fast.
"""

__all__: list[str] = []
