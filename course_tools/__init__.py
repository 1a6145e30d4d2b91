"""course_tools: what instructors and maintainers run on the course; learners never import it.

``ode_course`` is the package a learner installs (the lessons and the exercises' checks). This
package, installed with the ``instructor`` extra (``pip install -e ".[instructor]"``), holds the
tools that work on a checkout of the course: the grader, the student editions and the answer
key, the instructor guide, the package reference pages, the Colab links, and the notebooks'
stored outputs with their validation under other numerical configurations. One command line
runs them all::

    python -m course_tools [--root PATH] COMMAND ...

Commands (``python -m course_tools COMMAND --help`` for each):

- ``grade``: score submitted notebooks (:mod:`course_tools.grade`);
- ``student``: write, or ``--check``, the student editions (:mod:`course_tools.editions`);
- ``answer-key``: write the instructors' answer key;
- ``guide``: rewrite ``book/instructors.md`` (:mod:`course_tools.guide`);
- ``reference``: write, or ``--check``, the package reference pages
  (:mod:`course_tools.reference_pages`);
- ``links``: rewrite the GitHub and Colab links from ``_config.yml`` (:mod:`course_tools.links`);
- ``outputs``: re-execute notebooks and store their outputs (:mod:`course_tools.store_outputs`);
- ``nbval``: validate the stored outputs under numerical configurations
  (:mod:`course_tools.nbval_portable`);
- ``compare-outputs``: compare two runs' outputs (:mod:`course_tools.compare_outputs`).

The course is the folder given by ``--root``, by default the checkout the command runs in
(:mod:`course_tools.course`).
"""

__all__: list[str] = []
