"""All route handlers, collected in one list that create_app() registers."""


def route_handlers() -> list:
    from app.controllers.archive import ArchiveController
    from app.controllers.auth import AuthController
    from app.controllers.contracts import ContractsController
    from app.controllers.grid_files import GridFilesController
    from app.controllers.meters import MetersController
    from app.controllers.operator import OperatorController
    from app.controllers.operator_imports import BillingImportController
    from app.controllers.operator_journal import JournalController
    from app.controllers.operator_progress import TransmissionProgressController
    from app.controllers.operator_users import UsersController
    from app.controllers.pages import PagesController
    from app.controllers.profile import (
        CalendarFeedController,
        EmailConfirmController,
        ProfileController,
    )
    from app.controllers.readings import ReadingsController
    from app.controllers.receipts import ReceiptsController
    from app.controllers.unsubscribe import UnsubscribeController

    return [AuthController, ContractsController, ArchiveController, OperatorController,
            ReadingsController, ProfileController, EmailConfirmController,
            CalendarFeedController, GridFilesController, ReceiptsController,
            UnsubscribeController, BillingImportController,
            TransmissionProgressController, UsersController, JournalController,
            MetersController, PagesController]
