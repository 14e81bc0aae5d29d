"""Running the grid: the dataset and its judgments, every retriever × generator cell
(cached answers), the judge over the answers, and the figures scored from them."""
