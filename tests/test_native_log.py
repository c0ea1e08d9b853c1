import logging
import os

from kt_ext.native_log import import_tensorflow, native_log_dropped


def test_cpp_start_up_lines_are_dropped_and_everything_else_is_kept(capfd):
    with native_log_dropped():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called ...\n")
        os.write(2, b"I0000 00:00:1796150708.180983    9392 port.cc:153] oneDNN custom ops\n")
        os.write(2, b"E0000 00:00:1796150711.064351    9392 cuda_platform.cc:52] cuInit\n")
        os.write(2, b"UserWarning: something a user should see\n")
    assert capfd.readouterr().err == "UserWarning: something a user should see\n"


def test_descriptor_2_is_restored_even_after_an_error(capfd):
    try:
        with native_log_dropped():
            raise KeyError("boom")
    except KeyError:
        pass
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"


def test_tensorflows_retracing_warning_is_dropped_and_its_other_warnings_kept(caplog):
    import_tensorflow()
    import tensorflow as tf

    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        for n in range(1, 12):  # a new function each time, as each trial's new model has
            tf.function(lambda x: x + 1)(tf.zeros([n]))
        tf.get_logger().warning("a warning a user should see")
    assert [r.getMessage() for r in caplog.records] == ["a warning a user should see"]
