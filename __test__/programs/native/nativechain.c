/* A C extension with a known call chain for the --native tests:
 *   py_entry -> c_outer -> [callback into Python] -> c_inner (busy loop for `seconds`).
 * noinline and no sibling calls keep every function a frame of its own; c_inner adds the time
 * it spun to `spun_seconds()`, the truth the test compares the samples with. */
#include <Python.h>
#include <time.h>

static double spun;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static double c_inner(double seconds) {
    volatile double x = 0;
    double start = now(), end = start + seconds, t;
    do {
        for (int i = 0; i < 2000; i++) x += i * 0.5;
        t = now();
    } while (t < end);
    spun += t - start;
    return x;
}

__attribute__((noinline)) static double c_outer(double seconds, PyObject *callback) {
    if (callback != NULL && callback != Py_None) {
        PyObject *result = PyObject_CallObject(callback, NULL);
        if (result == NULL) return -1;
        Py_DECREF(result);
    }
    return seconds > 0 ? c_inner(seconds) + 1 : 1;
}

static PyObject *py_entry(PyObject *self, PyObject *args) {
    double seconds;
    PyObject *callback = NULL;
    if (!PyArg_ParseTuple(args, "d|O", &seconds, &callback)) return NULL;
    double r = c_outer(seconds, callback);
    if (r < 0 && PyErr_Occurred()) return NULL;
    return PyFloat_FromDouble(r);
}

static PyObject *spun_seconds(PyObject *self, PyObject *args) {
    return PyFloat_FromDouble(spun);
}

static PyMethodDef methods[] = {
    {"py_entry", py_entry, METH_VARARGS, "py_entry(seconds, callback=None)"},
    {"spun_seconds", spun_seconds, METH_NOARGS, "seconds spent in c_inner"},
    {NULL, NULL, 0, NULL},
};

#if PY_MAJOR_VERSION >= 3
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "nativechain", NULL, -1, methods};
PyMODINIT_FUNC PyInit_nativechain(void) { return PyModule_Create(&module); }
#else
PyMODINIT_FUNC initnativechain(void) { Py_InitModule("nativechain", methods); }
#endif
