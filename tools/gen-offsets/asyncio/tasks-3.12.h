/* The C future and task objects of CPython 3.12, as laid out in Modules/_asynciomodule.c
 * (3.12 keeps 3.11's FutureObj_HEAD and TaskObj; no 3.12 source package is reachable from
 * this machine, so gen_asyncio.py checks every offset against a live 3.12 task before writing it).
 * Not in any installed header: tools/gen-offsets/gen_asyncio.py compiles this after Python.h. */
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
    PyObject *task_cancelled_exc;
    /* TaskObj's own fields */
    PyObject *task_fut_waiter;
    PyObject *task_coro;
    PyObject *task_name;
    PyObject *task_context;
    int task_must_cancel;
    int task_log_destroy_pending;
    int task_num_cancels_requested;
} TaskObj;
