"""Subscriber portal («Личный кабинет абонента») of a municipal water utility."""
