"""A table view whose column titles do not look at the selection: a large selection froze the window as they did."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import QTableView


class LargeTableView(QTableView):
    """A QTableView whose horizontal header has a selection of its own, always empty.

    At each paint Qt's header asks the view's selection whether each column it shows is wholly selected, which it
    answers cell by cell through every selected row, calling the model's flags() and index() in Python: with 100,000
    tracks selected, a select-all, and every repaint of the titles after it (the mouse over them), held the window 3 s.
    Rows are selected whole here, so every selection touched every column and said nothing about one; the rows'
    own highlight shows the selection, and clicking a title still sorts.
    """

    def setSelectionModel(self, selection: QItemSelectionModel) -> None:  # noqa: N802 (Qt's name)
        """The view's selection as Qt sets it (setModel makes one); its header gets an empty one of its own."""
        super().setSelectionModel(selection)  # QTableView hands the same selection to its headers
        header = self.horizontalHeader()
        if header.model() is not None:
            header.setSelectionModel(QItemSelectionModel(header.model(), header))
