/* The C future and task objects of CPython 3.10, as laid out in Modules/_asynciomodule.c
 * (FutureObj_HEAD and TaskObj; 3.10 wakes an awaiting task through a bound builtin method).
 * Not in any installed header: tools/gen-offsets/gen_asyncio.py compiles this after Python.h
 * and checks the offsets against a live task of the interpreter. */
typedef enum { STATE_PENDING, STATE_CANCELLED, STATE_FINISHED } fut_state;

typedef struct {
    PyObject_HEAD
    PyObject *task_loop;
    PyObject *task_callback0;
    PyObject *task_context0;
    PyObject *task_callbacks;
    PyObject *task_exception;
    PyObject *task_exception_tb;
    PyObject *task_result;
    PyObject *task_source_tb;
    PyObject *task_cancel_msg;
    fut_state task_state;
    int task_log_tb;
    int task_blocking;
    PyObject *dict;
    PyObject *task_weakreflist;
    _PyErr_StackItem task_cancelled_exc_state;
    /* TaskObj's own fields */
    PyObject *task_fut_waiter;
    PyObject *task_coro;
    PyObject *task_name;
    PyObject *task_context;
    int task_must_cancel;
    int task_log_destroy_pending;
} TaskObj;
